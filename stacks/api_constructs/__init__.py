"""Constructs of the api stack (``stacks/api.py``): user directory, api function release,
document events, REST API, web firewall."""
