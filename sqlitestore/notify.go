package sqlitestore

import "sync"

// notifier wakes the Wait calls of this DB when a decision it committed
// lands, so that in-process waiters never wait for a poll. Waiters in
// other processes sharing the file are not reached; they poll.
type notifier struct {
	mu   sync.Mutex
	byID map[string]*waitList
}

type waitList struct {
	ch chan struct{} // closed by notify
	n  int           // registered waiters
}

// watch registers interest in id. The channel is closed by the next
// notify(id); release must be called when the waiter is done. Register
// before reading the record: a decision committed after the read then
// finds the channel.
func (n *notifier) watch(id string) (<-chan struct{}, func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byID == nil {
		n.byID = make(map[string]*waitList)
	}
	w := n.byID[id]
	if w == nil {
		w = &waitList{ch: make(chan struct{})}
		n.byID[id] = w
	}
	w.n++
	return w.ch, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if w.n--; w.n == 0 && n.byID[id] == w {
			delete(n.byID, id)
		}
	}
}

// notify wakes every waiter registered for id.
func (n *notifier) notify(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if w := n.byID[id]; w != nil {
		close(w.ch)
		delete(n.byID, id)
	}
}
