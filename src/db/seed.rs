//! Bulk demo data (`conduit seed`, and the small set a development server starts with).
