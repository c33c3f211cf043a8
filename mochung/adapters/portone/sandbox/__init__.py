"""A PortOne-compatible sandbox served by embedded servers with no keys: ``api`` speaks
the V2 (and V1) calls mochung makes, ``store`` keeps its payments in a JSON file."""
