"""Model planners and investigations: OpenAI and Anthropic behind one conversation interface.

The SDKs are imported on first use, never at start-up (see clients.py).
"""
