package geojson

// SetMaxBytes lowers the input bound for a test and returns the function that restores it.
func SetMaxBytes(n int) (restore func()) {
	old := maxBytes
	maxBytes = n
	return func() { maxBytes = old }
}
