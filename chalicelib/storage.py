"""The data bucket: presigned URLs for uploads and downloads, multipart uploads, object heads.

File bodies never pass through Lambda: clients PUT to and GET from S3 with URLs signed here.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from chalicelib import aws


def md5_base64(md5_hex: str) -> str:
    """Content-MD5 header value: S3 refuses a body whose md5 differs (the URL signs this header)."""
    return base64.b64encode(bytes.fromhex(md5_hex)).decode()


def presign_put(key: str, md5_hex: str, size: int, expires: int) -> dict[str, Any]:
    url = aws.client("s3").generate_presigned_url(
        "put_object",
        Params={
            "Bucket": aws.settings().data_bucket,
            "Key": key,
            "ContentMD5": md5_base64(md5_hex),
            "ContentLength": size,
        },
        ExpiresIn=expires,
    )
    return {"method": "PUT", "url": url, "headers": {"Content-MD5": md5_base64(md5_hex)}}


def start_multipart(key: str, md5_hex: str) -> str:
    """An S3 multipart upload for ``key``; the declared md5 travels as object metadata."""
    return aws.client("s3").create_multipart_upload(
        Bucket=aws.settings().data_bucket, Key=key, Metadata={"md5": md5_hex}
    )["UploadId"]


def presign_part(key: str, upload_id: str, number: int, md5_hex: str, expires: int) -> dict[str, Any]:
    url = aws.client("s3").generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": aws.settings().data_bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": number,
            "ContentMD5": md5_base64(md5_hex),
        },
        ExpiresIn=expires,
    )
    return {"number": number, "method": "PUT", "url": url, "headers": {"Content-MD5": md5_base64(md5_hex)}}


def uploaded_parts(key: str, upload_id: str) -> dict[int, str]:
    """Parts S3 already holds (number -> ETag): what a resumed upload can skip."""
    parts: dict[int, str] = {}
    paginator = aws.client("s3").get_paginator("list_parts")
    for page in paginator.paginate(Bucket=aws.settings().data_bucket, Key=key, UploadId=upload_id):
        parts.update({part["PartNumber"]: part["ETag"].strip('"') for part in page.get("Parts", [])})
    return parts


def complete_multipart(key: str, upload_id: str, parts: dict[int, str]) -> None:
    aws.client("s3").complete_multipart_upload(
        Bucket=aws.settings().data_bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(parts.items())]},
    )


def multipart_etag(part_md5s: list[str]) -> str:
    """The ETag S3 gives a multipart object: md5 of the parts' md5s, and the part count."""
    digest = hashlib.md5(b"".join(bytes.fromhex(md5) for md5 in part_md5s)).hexdigest()
    return f"{digest}-{len(part_md5s)}"


def head(key: str) -> dict[str, Any]:
    return aws.client("s3").head_object(Bucket=aws.settings().data_bucket, Key=key)


def presign_get(key: str, expires: int) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": aws.settings().data_bucket, "Key": key}, ExpiresIn=expires
    )


def part_size_for(size: int, threshold: int) -> int:
    """Parts of ``threshold`` bytes, grown in MiB steps so a file needs at most 10,000 parts (S3 limit)."""
    part = max(threshold, -(-size // 10_000))
    return -(-part // 2**20) * 2**20
