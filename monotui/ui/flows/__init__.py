"""The action flows: what a key starts, beside the dialog it opens (monotui.ui.screens), talking to the screen that
started it through `FlowHost` only. Each flow: which target, the dialog, the engine's plan and outcome, the notice."""
