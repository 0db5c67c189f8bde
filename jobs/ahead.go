package jobs

// ahead produces results 0..n-1 on up to width goroutines, at most width
// ahead of the consumer, which takes them in order with get: the work of
// later items overlaps the consumer's (parsing stored evaluations during
// replay, encoding aggregates while earlier ones are written), and memory
// stays bounded however many items there are.
type ahead[T any] struct {
	res  []chan produced[T]
	done chan struct{}
	sem  chan struct{}
}

type produced[T any] struct {
	v   T
	err error
}

func runAhead[T any](n, width int, produce func(i int) (T, error)) *ahead[T] {
	a := &ahead[T]{res: make([]chan produced[T], n), done: make(chan struct{}), sem: make(chan struct{}, max(1, width))}
	for i := range a.res {
		a.res[i] = make(chan produced[T], 1)
	}
	go func() {
		for i := range n {
			select {
			case a.sem <- struct{}{}:
			case <-a.done:
				return
			}
			go func() {
				v, err := produce(i)
				a.res[i] <- produced[T]{v, err}
			}()
		}
	}()
	return a
}

// get waits for the i-th result; call it for i = 0, 1, ... in turn.
func (a *ahead[T]) get(i int) (T, error) {
	p := <-a.res[i]
	<-a.sem
	return p.v, p.err
}

// stop ends the look-ahead (items under way finish into buffered channels).
func (a *ahead[T]) stop() { close(a.done) }
