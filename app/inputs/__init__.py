"""The users' input images: fetched safely (URLs behind an address guard), decoded (data URIs) and checked by
content, before the upstream client ever sees them. Imports the domain, never ``app.jimeng`` or ``app.api``."""
