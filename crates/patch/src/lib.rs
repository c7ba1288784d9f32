//! Strategic merge patch, JSON merge patch and JSON patch over JSON values, driven by a table of upstream patch metadata. No I/O.
