#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| djdissect_fuzz::dbserver_server(data));
