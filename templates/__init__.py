"""The HTML report's templates (Jinja2), styles and script: package data, so an installed
seo-audit finds them beside its code (reports.html loads them with jinja2.PackageLoader)."""
