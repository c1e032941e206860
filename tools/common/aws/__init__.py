"""How tools reach AWS: the environments (region, profile, role) and the boto3 clients built from them,
shared by the aws tool and helm's values from S3. `client` is the one module that imports boto3."""
