"""The only I/O: a transport sends one `Request` and returns its `Response`. In memory,
over httpx or aiohttp, with retries, and recorded.
"""
