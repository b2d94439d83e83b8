"""The smoke-test user, kept in step with its secret at each deployment (a custom resource)."""
