"""What every REST feature shares: camelCase wire models and ``endpoint()`` (``wire``), the
middlewares (request id, access log, CORS, the one place errors become JSON), the OpenAPI
document (``docs``), cursor-list parameters (``listing``) and ``/api/health``."""
