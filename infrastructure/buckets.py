"""The bulk data bucket and the bucket that keeps its access logs.

Files reach the data bucket only through presigned URLs, so the bucket is private, TLS-only and versioned
(an overwrite never loses the earlier file). Lifecycle rules move what is kept but rarely read to cheaper
storage classes: raw electrophysiology whose mtscomp copy has been verified, and noncurrent versions.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infrastructure.stages import Stage

# S3 lifecycle rules cannot match a suffix such as `.bin`, so the compression job marks each raw file it
# has compressed and verified with this tag; the rule below archives what carries it.
RAW_COMPRESSED_TAG = ("onecloud:raw", "compressed")
# Where the cache export writes the ONE cache tables.
CACHE_PREFIX = "cache/"


class DataBuckets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id)
        # Empty buckets on `make destroy` of an unprotected stage; a protected stage keeps its data.
        removal = {
            "removal_policy": stage.removal_policy,
            "auto_delete_objects": not stage.protected,
        }
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging only delivers to buckets encrypted with S3-managed keys.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365))],
            **removal,
        )
        self.data = s3.Bucket(
            self,
            "Data",
            bucket_name=stage.settings.data_bucket,
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{stage.settings.data_bucket}/",
            cors=[_browser_uploads()],
            lifecycle_rules=_lifecycle_rules(),
            **removal,
        )


def _browser_uploads() -> s3.CorsRule:
    """Browsers PUT to presigned URLs and read each part's ETag to complete a multipart upload. The
    presigned signature is the access control; CORS only lets a page see the answers."""
    return s3.CorsRule(
        allowed_methods=[s3.HttpMethods.GET, s3.HttpMethods.PUT, s3.HttpMethods.HEAD],
        allowed_origins=["*"],
        allowed_headers=["*"],
        exposed_headers=["ETag"],
        max_age=3600,
    )


def _lifecycle_rules() -> list[s3.LifecycleRule]:
    key, value = RAW_COMPRESSED_TAG
    return [
        s3.LifecycleRule(
            id="abort-incomplete-multipart-uploads",
            abort_incomplete_multipart_upload_after=Duration.days(7),
        ),
        s3.LifecycleRule(
            # A raw .bin with a verified .cbin beside it is only a safety copy: Deep Archive after a week.
            id="archive-compressed-raw-ephys",
            tag_filters={key: value},
            transitions=[
                s3.Transition(storage_class=s3.StorageClass.DEEP_ARCHIVE, transition_after=Duration.days(7))
            ],
        ),
        s3.LifecycleRule(
            # The cache export rewrites the same keys on every run: its old versions are derived data.
            id="expire-old-cache-exports",
            prefix=CACHE_PREFIX,
            noncurrent_version_expiration=Duration.days(7),
        ),
        s3.LifecycleRule(
            id="archive-noncurrent-versions",
            noncurrent_version_transitions=[
                s3.NoncurrentVersionTransition(
                    storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transition_after=Duration.days(30),
                ),
                s3.NoncurrentVersionTransition(
                    storage_class=s3.StorageClass.DEEP_ARCHIVE, transition_after=Duration.days(180)
                ),
            ],
        ),
    ]
