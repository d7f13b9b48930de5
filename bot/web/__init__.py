"""The humas web desk at /desk/: server-rendered pages on the same storage and handlers as the chats."""
