//! The store's integration tests in one test binary, run on SQLite and — with
//! `DISPATCH_TEST_DATABASE_URL` — on PostgreSQL.

mod filter;
mod store;
