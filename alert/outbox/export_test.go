package outbox

// Take applies the offered entries that follow o, as Follow does.
func (o *Outbox) Take(chunk int) (bool, error) { return o.take(chunk) }
