"""The only I/O: a transport sends one `Request` and returns its `Response`. In memory,
over httpx, aiohttp or HTTP/1.1 spoken directly on asyncio, with retries, and recorded.
"""
