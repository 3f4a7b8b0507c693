package replay

import (
	"io"
	"runtime"
	"slices"
	"sync"
)

// Decoding a line costs far more than deciding it, and lines decode
// independently, so Run decodes and decides batches of lines on every
// core; one goroutine then takes the batches in log order, pairs a call's
// records and counts. A worker's error is kept with its line and reported
// only if that line is reached in order and needed.

// batchLines is how many lines a batch holds: enough to make the hand-off
// cheap, few enough to keep memory small.
const batchLines = 256

// item is one line, decoded and, as if it began a call, replayed.
type item struct {
	rec       record
	call      Call
	decodeErr error // the line is malformed
	replayErr error // the line cannot be replayed (only an error if it begins a call)
}

type batch struct {
	raw   [][]byte // the lines, owned by the batch
	first int      // number of raw[0]
	items []item
	err   error // reading stopped here (after the lines)
	done  chan struct{}
}

// work decodes and replays b's lines.
func (r *Replayer) work(b *batch) {
	b.items = slices.Grow(b.items[:0], len(b.raw))[:len(b.raw)]
	for i, line := range b.raw {
		it := &b.items[i]
		if it.decodeErr = decode(line, b.first+i, &it.rec); it.decodeErr == nil && it.rec.Kind == "" { // a kind (checkpoint, config_loaded, ...) is no call
			it.replayErr = r.replay(&it.rec, &it.call)
		}
	}
	close(b.done)
}

// read splits src into batches, sending each to the workers (jobs) and, in
// order, to the caller (ordered), until src ends, fails or stop closes.
func read(src io.Reader, jobs, ordered chan<- *batch, stop <-chan struct{}) {
	defer close(jobs)
	defer close(ordered)
	ls := lines{br: newReader(src)}
	for {
		b := &batch{done: make(chan struct{})}
		for len(b.raw) < batchLines {
			line, n, err := ls.next()
			if err != nil {
				if err != io.EOF {
					b.err = err
				}
				break
			}
			if len(b.raw) == 0 {
				b.first = n
			}
			b.raw = append(b.raw, slices.Clone(line))
		}
		last := b.err != nil || len(b.raw) < batchLines
		select {
		case ordered <- b:
		case <-stop:
			return
		}
		select {
		case jobs <- b:
		case <-stop:
			return
		}
		if last {
			return
		}
	}
}

// batches runs the pipeline, calling fn with each batch in order; fn
// returning an error stops it.
func (r *Replayer) batches(src io.Reader, fn func(*batch) error) error {
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *batch, workers)
	ordered := make(chan *batch, 2*workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range jobs {
				r.work(b)
			}
		})
	}
	go read(src, jobs, ordered, stop)
	defer wg.Wait()
	defer close(stop)
	for b := range ordered {
		<-b.done
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}
