"""Patronus domain package, shipped to the Lambda functions as the project layer.

Layering (imports point downwards only):
``services`` (business rules, transactions) -> ``repositories`` (SQL, pymysql) and
``storage`` (S3 keys, presigning). ``settings`` is read once by the handlers and passed down.
"""
