"""What the routes do, apart from HTTP: each function takes the session or client it uses."""
