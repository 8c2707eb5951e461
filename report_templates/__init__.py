"""jinja2 report templates, installed as package data (`smo_audit_templates`)."""
