// SPDX-License-Identifier: MIT
// A repository that inserts rows keyed by an ID and decodes an ID for a
// debug view, as written for the Go Snowflake library.  Only the lines
// marked "migrated" changed.  (Any database/sql driver; none is linked.)
package main

import (
	"database/sql"
	"fmt"
	"log"
	"os"
	"time"

	goflakeid "flakeid.dev/flakeid" // migrated: the Go library's import path before
)

type User struct {
	ID        uint64
	Name      string
	Email     string
	CreatedAt time.Time
}

type UserRepository struct {
	db    *sql.DB
	idGen *goflakeid.Generator
}

func NewUserRepository(db *sql.DB, idGen *goflakeid.Generator) *UserRepository {
	return &UserRepository{db: db, idGen: idGen}
}

func (r *UserRepository) Create(user *User) error {
	id, err := r.idGen.Generate()
	if err != nil {
		return fmt.Errorf("failed to generate ID: %w", err)
	}
	user.ID = id
	user.CreatedAt = time.Now()
	_, err = r.db.Exec(`INSERT INTO users (id, name, email, created_at) VALUES (?, ?, ?, ?)`,
		user.ID, user.Name, user.Email, user.CreatedAt)
	return err
}

func (r *UserRepository) GetUserInfo(userID uint64) map[string]interface{} {
	components := r.idGen.Decode(userID)
	return map[string]interface{}{
		"user_id":    userID,
		"created_at": components.Timestamp,
		"region":     components.RegionID,
		"app":        components.AppID,
		"machine":    components.MachineID,
		"sequence":   components.Sequence,
	}
}

func main() {
	config := goflakeid.NewConfig(1, 2, 5)
	idGen, err := goflakeid.OpenConfig(*config) // migrated: was NewGenerator(*config)
	if err != nil {
		log.Fatal(err)
	}
	db, err := sql.Open(os.Getenv("DB_DRIVER"), os.Getenv("DB_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	repo := NewUserRepository(db, idGen)
	user := &User{Name: "Ada", Email: "ada@example.com"}
	if err := repo.Create(user); err != nil {
		log.Fatal(err)
	}
	fmt.Println(repo.GetUserInfo(user.ID))
}
