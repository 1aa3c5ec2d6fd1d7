"""What a route or a dashboard page asks for. Every function takes a `Session` and commits
what it changes; every query is scoped by the organisation it is given, and every change made
for someone takes their `Actor` and checks it against the permission table (`permissions`)."""
