// Does not compile, on purpose: chapter 1 shows rustc's error.
// ANCHOR: refcell_shared
use std::cell::RefCell;
use std::thread;

fn main() {
    let polls = RefCell::new(0);
    thread::scope(|s| {
        s.spawn(|| *polls.borrow_mut() += 1);
        *polls.borrow_mut() += 1;
    });
}
// ANCHOR_END: refcell_shared
