// Package lint holds tests that keep the project's structure as the design
// describes it (docs/design.md): which package may import which, and that no
// log call prints a URL unredacted. Rules in prose drift; a failing test does
// not. It has no code of its own.
package lint
