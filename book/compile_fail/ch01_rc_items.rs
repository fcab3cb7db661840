// Does not compile, on purpose: chapter 1 shows rustc's error.
// ANCHOR: rc_items
use std::rc::Rc;
use std::thread;

use queuelab::PollingQueue;

fn main() {
    let q = PollingQueue::new();
    thread::scope(|s| {
        s.spawn(|| q.put(Rc::new("job")));
    });
}
// ANCHOR_END: rc_items
