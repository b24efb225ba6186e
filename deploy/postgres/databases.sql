-- The production profile's PostgreSQL of a region: one database per service, all in byte order
-- (the server is initialised with --locale=C), so keyset pages follow the order they have on
-- SQLite. Run once, by the image's entrypoint, when the data directory is new.
CREATE DATABASE membership;
CREATE DATABASE pairing;
CREATE DATABASE sharing;
