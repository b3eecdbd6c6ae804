"""One module per `seo-audit` verb: each declares its parser (``add_parser(verbs)``) and runs it
(``run``); seo_audit.cli assembles them."""
