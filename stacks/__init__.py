"""CDK stacks and constructs of Patronus Cloud."""
