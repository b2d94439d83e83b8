"""Lambda that turns S3 "Object Created" events (via EventBridge) into available documents."""
