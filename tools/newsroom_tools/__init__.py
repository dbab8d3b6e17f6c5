"""Docker-free development tools: the embedded AWS emulator, the template reader, the local API.

Nothing here is imported by a Lambda function; moto is a development dependency only.
"""
