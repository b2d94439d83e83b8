"""Deploy-time schema migration of Patronus (a CloudFormation custom resource)."""
