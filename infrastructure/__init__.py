"""Infrastructure as code: the AWS CDK app that deploys a stage of `.chalice/config.json`."""
