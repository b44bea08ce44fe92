"""The configuration's documentation, generated from workflow/schemas (config/README.md)."""
