package storagetest_test

import (
	"testing"

	"github.com/parity-eval/parity/storage"
	"github.com/parity-eval/parity/storage/file"
	"github.com/parity-eval/parity/storage/storagetest"
)

func TestFileStore(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := file.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
