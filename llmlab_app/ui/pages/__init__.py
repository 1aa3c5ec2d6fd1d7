"""One route per module; `llmlab_app.llmlab_app` adds them to the app."""
