package locate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
)

// Checker answers for one point. AppendFields appends the two output fields (zone ids and rule
// ids, each joined with ';' and CSV-quoted when needed) to dst. It must be safe for concurrent
// use. An error refuses the row; a *ColumnError names the column at fault.
type Checker interface {
	AppendFields(dst []byte, p *Point) ([]byte, error)
}

// Options tune [Run].
type Options struct {
	// Workers is how many goroutines check points; 0 means GOMAXPROCS.
	Workers int
	// Errors receives one line per refused row; nil discards them.
	Errors io.Writer
	// Progress, when set, is called from the reading goroutine after each batch.
	Progress func(rows int)
}

// Summary counts what [Run] did: the data rows read and how many of them were refused.
type Summary struct {
	Rows, Refused int
}

// batchSize rows travel together between the reader, the workers and the writer, so the
// channels carry few, large messages.
const batchSize = 4096

type batch struct {
	seq    int
	points []Point
	errs   []error // refused rows, by the reader and then by the checker
	read   int     // rows the reader took in, refused or not
	out    []byte
}

// Run reads points from rd, checks them with c and writes `id,zone_ids,rule_ids` rows, with a
// header, to w in input order. Refused rows are reported to opts.Errors and skipped. The returned
// error is non-nil only when the input could not be read or the output written.
func Run(rd *Reader, c Checker, w io.Writer, opts Options) (Summary, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.WriteString("id,zone_ids,rule_ids\n"); err != nil {
		return Summary{}, err
	}

	todo := make(chan *batch, workers)
	done := make(chan *batch, workers)
	pool := sync.Pool{New: func() any { return &batch{points: make([]Point, 0, batchSize)} }}

	var readErr error
	go func() {
		defer close(todo)
		seq, rows := 0, 0
		for {
			b := pool.Get().(*batch)
			b.seq, b.points, b.errs, b.out = seq, b.points[:0], b.errs[:0], b.out[:0]
			var p Point
			for len(b.points) < batchSize {
				err := rd.Read(&p)
				if err == nil {
					b.points = append(b.points, p)
					continue
				}
				var re *RowError
				if errors.As(err, &re) {
					b.errs = append(b.errs, err)
					continue
				}
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				b.read = len(b.points) + len(b.errs)
				rows += b.read
				todo <- b
				if opts.Progress != nil {
					opts.Progress(rows)
				}
				return
			}
			b.read = len(b.points) + len(b.errs)
			rows += b.read
			todo <- b
			if opts.Progress != nil {
				opts.Progress(rows)
			}
			seq++
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range todo {
				for i := range b.points {
					p := &b.points[i]
					start := len(b.out)
					b.out = appendField(b.out, p.ID)
					b.out = append(b.out, ',')
					var err error
					b.out, err = c.AppendFields(b.out, p)
					if err != nil {
						b.out = b.out[:start]
						b.errs = append(b.errs, rowError(rd.name, p.Line, err))
						continue
					}
					b.out = append(b.out, '\n')
				}
				done <- b
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// Write batches in input order; errors are written per batch, so a refused row is
	// reported near its neighbours.
	var sum Summary
	var writeErr error
	pending := map[int]*batch{}
	next := 0
	for b := range done {
		pending[b.seq] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			sum.Rows += b.read
			sum.Refused += len(b.errs)
			if writeErr == nil {
				_, writeErr = bw.Write(b.out)
			}
			if opts.Errors != nil {
				sortByLine(b.errs)
				for _, e := range b.errs {
					fmt.Fprintln(opts.Errors, e)
				}
			}
			pool.Put(b)
		}
	}
	if writeErr == nil {
		writeErr = bw.Flush()
	}
	if readErr != nil {
		return sum, fmt.Errorf("reading %s: %w", rd.name, readErr)
	}
	return sum, writeErr
}

func rowError(file string, line int, err error) error {
	var ce *ColumnError
	if errors.As(err, &ce) {
		return &RowError{File: file, Line: line, Column: ce.Column, Err: ce.Err}
	}
	return &RowError{File: file, Line: line, Err: err}
}

func sortByLine(errs []error) {
	line := func(e error) int {
		var re *RowError
		if errors.As(e, &re) {
			return re.Line
		}
		return 0
	}
	// Insertion sort: a batch holds few errors and they are nearly sorted already.
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && line(errs[j]) < line(errs[j-1]); j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// AppendJoined appends ids joined with ';' as one CSV field.
func AppendJoined(dst []byte, ids []string) []byte {
	needQuote := false
	for _, id := range ids {
		if strings.ContainsAny(id, ",\"\r\n;") {
			needQuote = true
			break
		}
	}
	if !needQuote {
		for i, id := range ids {
			if i > 0 {
				dst = append(dst, ';')
			}
			dst = append(dst, id...)
		}
		return dst
	}
	return appendField(dst, strings.Join(ids, ";"))
}

// appendField appends s as one CSV field, quoted when it must be.
func appendField(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") && !strings.HasPrefix(s, " ") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}
