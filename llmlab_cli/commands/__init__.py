"""The CLI's commands, one module per topic; `llmlab_cli.main` wires them into `llmlab`."""
