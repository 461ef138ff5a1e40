"""AWS Batch: where compression runs (CPU, Spot first) and spike sorting runs (GPU).

Jobs are container runs of the image built from `batch/Dockerfile` and pushed to the stage's repository.
Spot capacity can be reclaimed at any time, so every job definition retries reclaims (Batch reports them as
`Host EC2*`) and fails fast on anything else: a real error must reach the task, not run three times.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infrastructure import permissions
from infrastructure.stages import Stage


@dataclass(frozen=True)
class JobShape:
    """What one job asks of an instance; the entrypoint is `python -m batch.<module> <task id>`."""

    module: str
    vcpus: int
    memory_gib: int
    timeout: Duration
    gpus: int = 0


# Compression streams chunk by chunk (a few hundred MB at most): one job fills a c5.xlarge (4 vCPUs, 8 GiB)
# with room left for the ECS agent.
COMPRESS = JobShape(module="ephys_compress", vcpus=4, memory_gib=6, timeout=Duration.hours(4))
# One g4dn.2xlarge (8 vCPUs, 32 GiB, one T4): the memory leaves room for the ECS agent.
SORT = JobShape(module="spike_sorting", vcpus=8, memory_gib=30, gpus=1, timeout=Duration.hours(12))
# A subject's training status: a few psychometric fits per date, seconds to a minute on one vCPU.
TRAINING = JobShape(module="training_status", vcpus=1, memory_gib=2, timeout=Duration.hours(1))

CPU_INSTANCE_CLASSES = [
    ec2.InstanceClass.C5,
    ec2.InstanceClass.C6I,
    ec2.InstanceClass.M5,
    ec2.InstanceClass.M6I,
]
GPU_INSTANCE_TYPES = [ec2.InstanceType("g4dn.2xlarge"), ec2.InstanceType("g4dn.4xlarge")]
# Compression streams from S3, but a sorter works on a local, decompressed ~70 GB probe file and writes
# temporary files of the same order: GPU instances get a larger root volume.
SORTING_SCRATCH_GIB = 500
MAX_CPU_SPOT_VCPUS = 256
MAX_CPU_ON_DEMAND_VCPUS = 64
MAX_GPU_VCPUS = 32


class ComputeStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage, image_tag: str) -> None:
        super().__init__(scope, construct_id, stack_name=stage.stack_name("compute"))
        self.stage = stage
        vpc = self._network()
        cpu_spot, cpu_on_demand, gpu = self._compute_environments(vpc)
        names = stage.batch
        batch.JobQueue(
            self,
            "CpuQueue",
            job_queue_name=names.cpu_queue,
            compute_environments=[
                batch.OrderedComputeEnvironment(compute_environment=cpu_spot, order=1),
                batch.OrderedComputeEnvironment(compute_environment=cpu_on_demand, order=2),
            ],
        )
        batch.JobQueue(
            self,
            "GpuQueue",
            job_queue_name=names.gpu_queue,
            compute_environments=[batch.OrderedComputeEnvironment(compute_environment=gpu, order=1)],
        )
        image = ecs.ContainerImage.from_ecr_repository(
            ecr.Repository.from_repository_name(self, "BatchImage", stage.image_repository), image_tag
        )
        role = self._job_role()
        job_logs = logs.LogGroup(
            self,
            "JobLogs",
            log_group_name=stage.batch.job_log_group,
            retention=stage.log_retention,
            removal_policy=stage.removal_policy,
        )
        for construct_id, name, shape in (
            ("Compress", names.compress_job, COMPRESS),
            ("Sort", names.sort_job, SORT),
            ("Training", names.training_job, TRAINING),
        ):
            self._job_definition(construct_id, name, shape, image=image, role=role, log_group=job_logs)

    def _network(self) -> ec2.Vpc:
        """Public subnets and no NAT gateway (a NAT gateway costs more than a lab's jobs); instances get
        public addresses but no inbound rule. S3 and DynamoDB traffic stays on gateway endpoints. The stack
        is environment-agnostic, so CDK spreads the subnets over two zones of the region deployed to."""
        return ec2.Vpc(
            self,
            "Network",
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="batch", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=20)
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            },
        )

    def _compute_environments(self, vpc: ec2.Vpc) -> tuple[batch.ManagedEc2EcsComputeEnvironment, ...]:
        # Instances take no inbound connection: the ECS agent and the jobs only call out.
        no_inbound = ec2.SecurityGroup(
            self, "Instances", vpc=vpc, description="Batch instances: outbound only"
        )
        common = {
            "vpc": vpc,
            "security_groups": [no_inbound],
            "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            "minv_cpus": 0,
            "update_to_latest_image_version": True,
        }
        cpu_spot = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "CpuSpot",
            spot=True,
            allocation_strategy=batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
            instance_classes=CPU_INSTANCE_CLASSES,
            use_optimal_instance_classes=False,
            maxv_cpus=MAX_CPU_SPOT_VCPUS,
            **common,
        )
        cpu_on_demand = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "CpuOnDemand",
            allocation_strategy=batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
            instance_classes=CPU_INSTANCE_CLASSES,
            use_optimal_instance_classes=False,
            maxv_cpus=MAX_CPU_ON_DEMAND_VCPUS,
            **common,
        )
        scratch = ec2.LaunchTemplate(
            self,
            "SortingScratch",
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        SORTING_SCRATCH_GIB, volume_type=ec2.EbsDeviceVolumeType.GP3, encrypted=True
                    ),
                )
            ],
            require_imdsv2=True,
        )
        # On demand: a reclaimed multi-hour sort loses more than Spot saves on a GPU.
        gpu = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "Gpu",
            launch_template=scratch,
            allocation_strategy=batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
            instance_types=GPU_INSTANCE_TYPES,
            use_optimal_instance_classes=False,
            images=[batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2_NVIDIA)],
            maxv_cpus=MAX_GPU_VCPUS,
            **common,
        )
        return cpu_spot, cpu_on_demand, gpu

    def _job_role(self) -> iam.Role:
        """Jobs read any input, write only under session folders (where the S3 event path registers
        what they write), and update their task."""
        stage = self.stage
        role = iam.Role(self, "JobRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        role.add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[permissions.objects(stage)])
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[permissions.bucket(stage)])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"],
                resources=[permissions.objects(stage, permissions.SESSION_OBJECTS)],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(permissions.TABLE_READ), resources=permissions.stage_tables(self, stage)
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem"], resources=permissions.table(self, stage, "tasks")
            )
        )
        # the training status: the pages' documents, and json.trained_criteria through the REST update path
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[permissions.objects(stage, permissions.ANALYSES_OBJECTS)]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"],
                resources=[
                    *permissions.table(self, stage, "subjects"),
                    *permissions.table(self, stage, "unique-keys"),
                    *permissions.table(self, stage, "history"),
                ],
            )
        )
        return role

    def _job_definition(
        self,
        construct_id: str,
        name: str,
        shape: JobShape,
        *,
        image: ecs.ContainerImage,
        role: iam.Role,
        log_group: logs.LogGroup,
    ) -> batch.EcsJobDefinition:
        stage = self.stage
        container = batch.EcsEc2ContainerDefinition(
            self,
            f"{construct_id}Container",
            image=image,
            cpu=shape.vcpus,
            memory=Size.gibibytes(shape.memory_gib),
            gpu=shape.gpus or None,
            command=["python", "-m", f"batch.{shape.module}", "Ref::task_id"],
            environment={
                **stage.environment,
                **stage.batch.environment(),
                "POWERTOOLS_LOG_LEVEL": stage.settings.log_level,
            },
            job_role=role,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=shape.module, log_group=log_group),
        )
        return batch.EcsJobDefinition(
            self,
            construct_id,
            job_definition_name=name,
            container=container,
            timeout=shape.timeout,
            retry_attempts=3,
            retry_strategies=[
                batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED),
                batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom(on_reason="*")),
            ],
            propagate_tags=True,
        )
