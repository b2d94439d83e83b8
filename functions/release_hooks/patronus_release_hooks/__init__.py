"""CodeDeploy lifecycle hooks of the api function's releases."""
