#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| djdissect_fuzz::capture_reader(data));
