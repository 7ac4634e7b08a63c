//! v6ctl types and renderers for ra (owned by the ra helper).
