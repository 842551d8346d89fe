-- Sales leads, before they become customers.
CREATE TABLE leads (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_name text          NOT NULL,
    email        email_address NOT NULL UNIQUE,
    stage        lead_stage    NOT NULL DEFAULT 'new',
    owner_id     bigint        REFERENCES employees (id),
    customer_id  bigint        REFERENCES customers (id),
    created_at   timestamptz   NOT NULL DEFAULT now()
);

CREATE INDEX leads_stage_idx ON leads (stage);

CREATE TABLE lead_activities (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id     bigint      NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    happened_at timestamptz NOT NULL DEFAULT now(),
    note        text        NOT NULL
);

CREATE TABLE tags (
    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);

INSERT INTO tags (name) VALUES ('key-account'), ('trade-fair'), ('referral');

CREATE TABLE lead_tags (
    lead_id bigint  NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    tag_id  integer NOT NULL REFERENCES tags (id),
    PRIMARY KEY (lead_id, tag_id)
);
