"""A Slack Web API stand-in that holds every call to Slack's specs, and a driver that sends the bot
signed requests as Slack does: the test suite's fake Slack and the playground's workspace."""
