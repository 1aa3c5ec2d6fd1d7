"""The `llmlab` command line; `llmlab_cli.main:app` is the entry point."""
