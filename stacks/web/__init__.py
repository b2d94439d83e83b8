"""The web application in AWS: its CloudFront distribution, sign-in client and deployment.

``stacks.web.stack.WebStack`` wires them; ``stacks.web.contract`` (what the application's origin
promises, shared with the local gateway) imports nothing from aws-cdk-lib.
"""
