//! Control-socket request lines, read as clppm reads them: any line is a request or a
//! protocol error; a request written back and read again is the same request.
#![no_main]

use clp_core::ipc::{Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<Request>(data) {
        let line = serde_json::to_vec(&request).expect("a request serializes");
        let again: Request = serde_json::from_slice(&line).expect("a written request reads back");
        assert_eq!(request, again);
    }
    // The commands read the daemon's answers the same way.
    if let Ok(response) = serde_json::from_slice::<Response>(data) {
        let line = serde_json::to_vec(&response).expect("a response serializes");
        let _again: Response = serde_json::from_slice(&line).expect("a written response reads back");
    }
});
