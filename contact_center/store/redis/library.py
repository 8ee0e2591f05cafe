"""The Redis store's functions (Redis 7): what must change together, or be counted across nodes, in one call."""

from __future__ import annotations

from contact_center.store.redis.keys import lua_template

__all__ = ["LIBRARY"]

# One library of functions. Keys a function builds itself (those it finds on its way, and a
# unit's records) are written {{shape(argument)}}: the Lua expression of that Keys shape, the
# prefix in ``p`` (ARGV[1]) and the argument a Lua expression (see keys.lua_key).
_TEMPLATE = """#!lua name=contact_center

-- KEYS: events:next, history:{customer}. ARGV: the event's JSON. Returns the event's id.
local function append_event(keys, args)
  local id = redis.call('INCR', keys[1])
  redis.call('ZADD', keys[2], id, id .. '::' .. args[1])
  return id
end

-- KEYS: events:next, conversation:{contact}, messages:{contact}, history:{customer}.
-- ARGV: client_id, the message's JSON. Returns {1, stored} for a new message, {0, stored}
-- for a client_id recorded before (the message first recorded, nothing changed).
local function add_message(keys, args)
  local seen = redis.call('HGET', keys[2], 'c:' .. args[1])
  if seen then
    return {0, redis.call('ZRANGEBYSCORE', keys[3], seen, seen)[1]}
  end
  local seq = redis.call('HINCRBY', keys[2], 'last', 1)
  redis.call('HSET', keys[2], 'c:' .. args[1], seq)
  local id = redis.call('INCR', keys[1])
  local stored = id .. ':' .. seq .. ':' .. args[2]
  redis.call('ZADD', keys[3], seq, stored)
  redis.call('ZADD', keys[4], id, stored)
  return {1, stored}
end

-- KEYS: conversation:{contact} of each conversation asked for. Its last sequence number, 0 for none.
local function last_seqs(keys)
  local last = {}
  for i, key in ipairs(keys) do
    last[i] = tonumber(redis.call('HGET', key, 'last') or '0')
  end
  return last
end

-- KEYS: customer:{id}. ARGV: name, value, created_at, then kind:value pairs' keys and members.
-- Fails, changing nothing, if the customer or one of its identities exists already.
local function create_customer(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 then
    return redis.error_reply('CONFLICT customer ' .. args[4] .. ' exists already')
  end
  for i = 5, #args, 2 do
    if redis.call('EXISTS', args[i]) == 1 then
      return redis.error_reply('CONFLICT identity ' .. args[i + 1] .. ' belongs to a customer already')
    end
  end
  redis.call('HSET', keys[1], 'name', args[1], 'value', args[2], 'created_at', args[3])
  for i = 5, #args, 2 do
    redis.call('SET', args[i], args[4])
    redis.call('SADD', keys[1] .. ':identities', args[i + 1])
  end
  return 1
end

-- KEYS: users, user:{id}. ARGV: username, id, then field, value pairs. Fails if the name is taken.
local function create_user(keys, args)
  if redis.call('HSETNX', keys[1], args[1], args[2]) == 0 then
    return redis.error_reply('CONFLICT username ' .. args[1] .. ' is taken')
  end
  redis.call('HSET', keys[2], unpack(args, 3))
  return 1
end

-- ARGV: prefix, keep, gone. Moves identities, claims, contacts, customer sessions and history from
-- gone to keep; keep's value becomes the higher of the two; gone is marked merged.
local function merge_customers(keys, args)
  local p, keep, gone = args[1], args[2], args[3]
  local kc, gc = {{customer(keep)}}, {{customer(gone)}}
  for _, iv in ipairs(redis.call('SMEMBERS', {{customer_identities(gone)}})) do
    redis.call('SET', {{identity_member(iv)}}, keep)
    redis.call('SADD', {{customer_identities(keep)}}, iv)
  end
  for _, c in ipairs(redis.call('SMEMBERS', {{customer_contacts(gone)}})) do
    redis.call('HSET', {{contact(c)}}, 'customer_id', keep)
    redis.call('SADD', {{customer_contacts(keep)}}, c)
    local fm = redis.call('HGET', {{contact(c)}}, 'fm')
    local facts = fm and redis.call('HGET', {{report_facts(fm)}}, c)
    if facts then  -- the service reports count the contact for the customer it now belongs to
      local row = cjson.decode(facts)
      row[3] = keep
      redis.call('HSET', {{report_facts(fm)}}, c, cjson.encode(row))
    end
  end
  for _, h in ipairs(redis.call('SMEMBERS', {{customer_sessions(gone)}})) do
    if redis.call('EXISTS', {{session(h)}}) == 1 then
      redis.call('HSET', {{session(h)}}, 'subject_id', keep)
      redis.call('SADD', {{customer_sessions(keep)}}, h)
    end
  end
  local kl, gl = {{customer_claims(keep)}}, {{customer_claims(gone)}}
  redis.call('ZUNIONSTORE', kl, 2, kl, gl, 'AGGREGATE', 'MIN')
  redis.call('DEL', {{customer_identities(gone)}}, {{customer_contacts(gone)}}, {{customer_sessions(gone)}}, gl)
  local kh, gh = {{history(keep)}}, {{history(gone)}}
  redis.call('ZUNIONSTORE', kh, 2, kh, gh)
  redis.call('DEL', gh)
  local kv = tonumber(redis.call('HGET', kc, 'value') or '0')
  local gv = tonumber(redis.call('HGET', gc, 'value') or '0')
  if gv > kv then
    redis.call('HSET', kc, 'value', redis.call('HGET', gc, 'value'))
  end
  redis.call('HSET', gc, 'merged_into', keep)
  return 1
end

-- ARGV: prefix, the announcement to publish on bus:state (or ''), and the unit as JSON:
-- check: [key, version] pairs (a record's key, a hash whose field v is its version);
-- contacts: [id, customer_id, open (1/0), enqueued_at, version, record, sla, rating, facts]
-- (see sla_of, rating_of, facts_of_row);
-- presences: [agent_id, version, record, status, status change ('' or [ms, member])]; events: [customer_id, json];
-- mails and outbound: objects with their keys built (see RedisStore._mail_unit), their bytes
-- in ARGV from 4 on; seats: [name, holder, capacity] (capacity 0: the place given back). Records
-- nothing unless every key is at its version, no mail's place in its mailbox is recorded, no outbox
-- key is taken and no place is taken in a full set; returns the events' ids.
local function commit(keys, args)
  local p = args[1]
  local unit = cjson.decode(args[3])
  for _, c in ipairs(unit.check) do
    local v = tonumber(redis.call('HGET', c[1], 'v') or '0')
    if v ~= c[2] then
      return redis.error_reply('STALE ' .. c[1] .. ' is at version ' .. v .. ', not ' .. c[2])
    end
  end
  for _, m in ipairs(unit.mails) do
    if m.src ~= '' and redis.call('EXISTS', m.src) == 1 then
      return redis.error_reply('CONFLICT mail ' .. m.where .. ' is recorded already')
    end
  end
  for _, o in ipairs(unit.outbound) do
    if redis.call('EXISTS', o.unique) == 1 then
      return redis.error_reply('CONFLICT outbox: ' .. o.name .. ' is queued already')
    end
  end
  for _, s in ipairs(unit.seats) do
    local k = {{seat(s[1])}}
    if s[3] > 0 and redis.call('SISMEMBER', k, s[2]) == 0 and redis.call('SCARD', k) >= s[3] then
      return redis.error_reply('CONFLICT full: ' .. s[1] .. ' holds ' .. s[3])
    end
  end
  for _, s in ipairs(unit.seats) do
    if s[3] > 0 then
      redis.call('SADD', {{seat(s[1])}}, s[2])
    else
      redis.call('SREM', {{seat(s[1])}}, s[2])
    end
  end
  for _, c in ipairs(unit.contacts) do
    redis.call('HSET', {{contact(c[1])}}, 'v', c[5], 'customer_id', c[2], 'record', c[6], 'fm', c[9][1])
    if c[7] ~= '' then
      redis.call('ZADD', {{sla_email}}, c[7][1], c[1])
      if c[7][2] ~= '' then
        redis.call('HSET', {{sla_answered}}, c[1], c[7][2])
      end
    end
    if c[8] ~= '' then
      redis.call('ZADD', {{ratings}}, c[8][1], c[1])
      redis.call('HSET', {{rating_scores}}, c[1], c[8][2])
    end
    redis.call('HSET', {{report_facts(c[9][1])}}, c[1], c[9][2])
    redis.call('SADD', {{customer_contacts(c[2])}}, c[1])
    if c[3] == 1 then
      redis.call('ZADD', {{open_contacts}}, c[4], c[1])
    else
      redis.call('ZREM', {{open_contacts}}, c[1])
    end
  end
  for _, a in ipairs(unit.presences) do
    redis.call('HSET', {{agent(a[1])}}, 'v', a[2], 'record', a[3])
    redis.call('HSET', {{user(a[1])}}, 'status', a[4])
    if a[5] ~= '' then
      redis.call('ZADD', {{statuses}}, a[5][1], a[5][2])
    end
  end
  for _, m in ipairs(unit.mails) do
    redis.call('HSET', m.key, 'meta', m.meta, 'raw', args[m.raw])
    for _, part in ipairs(m.parts) do
      redis.call('HSET', m.key, part[1], args[part[2]])
    end
    if m.src ~= '' then
      redis.call('SET', m.src, m.id)
      local uidv = redis.call('HGET', m.box, 'uidvalidity')
      local last = tonumber(redis.call('HGET', m.box, 'last_uid') or '0')
      if uidv ~= m.uidv or last < m.uid then
        redis.call('HSET', m.box, 'uidvalidity', m.uidv, 'last_uid', m.uid)
      end
    end
    for _, t in ipairs(m.threads) do
      redis.call('SET', t[1], t[2], 'NX')
    end
    if m.ticket ~= '' then
      if m.at >= tonumber(redis.call('HGET', m.ticket, 'at') or '-1') then
        redis.call('HSET', m.ticket, 'contact_id', m.contact, 'at', m.at)
      end
    end
    if m.listed ~= '' then
      redis.call('ZADD', m.listed, m.at, m.id)
    end
  end
  for _, o in ipairs(unit.outbound) do
    redis.call('HSET', o.key, 'meta', o.meta, 'raw', args[o.raw])
    redis.call('SET', o.unique, o.id)
    redis.call('ZADD', o.due, o.next, o.id)
    if o.acks ~= '' then
      redis.call('ZADD', o.acks, o.created, o.id)
      redis.call('ZADD', o.acks_domain, o.created, o.id)
    end
  end
  local ids = {}
  for _, e in ipairs(unit.events) do
    local id = redis.call('INCR', {{event_ids}})
    redis.call('ZADD', {{history(e[1])}}, id, id .. '::' .. e[2])
    ids[#ids + 1] = id
  end
  if args[2] ~= '' then
    redis.call('PUBLISH', {{bus('state')}}, args[2])
  end
  return ids
end

-- ARGV: prefix, the sender's address (its customer identity), the address acknowledgements would go to,
-- its domain, since (ms), a ticket the subject names (or ''), then the Message-IDs asked for. Everything
-- filing one fetched mail depends on, read at once (see mail.FilingContext), as JSON: the known mails
-- [message id, their JSON], the customer [id, value] (or false), each named ticket that exists
-- [ticket, latest contact, its customer, addresses its replies went to or copied (read only for a stranger)],
-- and how many acknowledgements went to the address and to the domain since then.
local function filing_context(keys, args)
  local p, address, acks_to, domain, since, ticket_ref = args[1], args[2], args[3], args[4], args[5], args[6]
  local entries, named, order = {}, {}, {}
  for i = 7, #args do
    local mid = args[i]
    local ref = redis.call('GET', {{thread_id(mid)}})
    if ref then
      entries[#entries + 1] = {mid, ref}
      local ticket = cjson.decode(ref)[4]
      if type(ticket) == 'string' and ticket ~= '' and not named[ticket] then
        named[ticket] = true
        order[#order + 1] = ticket
      end
    end
  end
  if ticket_ref ~= '' and not named[ticket_ref] then
    order[#order + 1] = ticket_ref
  end
  local customer = redis.call('GET', {{identity('email', address)}})
  local found = false
  if customer then
    found = {customer, redis.call('HGET', {{customer(customer)}}, 'value') or '0'}
  end
  local tickets = {}
  for _, ticket in ipairs(order) do
    local latest = redis.call('HGET', {{ticket(ticket)}}, 'contact_id')
    local owner = latest and redis.call('HGET', {{contact(latest)}}, 'customer_id')
    if owner then
      local copied = {}
      if owner ~= customer then
        for _, mail_id in ipairs(redis.call('ZRANGE', {{contact_mails(latest)}}, 0, -1)) do
          local meta = redis.call('HGET', {{mail(mail_id)}}, 'meta')
          if meta then
            local m = cjson.decode(meta)
            if m.direction == 'out' then
              for _, key in ipairs({'to', 'cc'}) do
                if type(m.summary[key]) == 'table' then
                  for _, a in ipairs(m.summary[key]) do copied[#copied + 1] = a end
                end
              end
            end
          end
        end
      end
      tickets[#tickets + 1] = {ticket, latest, owner, copied}
    end
  end
  local after = '(' .. since
  local to_address = redis.call('ZCOUNT', {{acks(acks_to)}}, after, '+inf')
  local to_domain = redis.call('ZCOUNT', {{acks_domain(domain)}}, after, '+inf')
  return cjson.encode({entries, found, tickets, to_address, to_domain})
end

redis.register_function('cc_append_event', append_event)
redis.register_function('cc_commit', commit)
redis.register_function('cc_add_message', add_message)
redis.register_function{function_name='cc_last_seqs', callback=last_seqs, flags={'no-writes'}}
redis.register_function{function_name='cc_filing_context', callback=filing_context, flags={'no-writes'}}
redis.register_function('cc_create_customer', create_customer)
redis.register_function('cc_create_user', create_user)
redis.register_function('cc_merge_customers', merge_customers)
"""

LIBRARY = lua_template(_TEMPLATE)
