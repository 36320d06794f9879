/*
 * locks.c
 *	  Heavyweight locks on keys no SQL user can take.
 *
 * pg_advisory_lock() keys form one space open to every role, so a stream,
 * a pull or a partition maker serialised on an advisory key could be
 * blocked by anyone who takes that key first.  These locks use the advisory
 * lock method (session locks survive transaction ends and go at process
 * exit) with a fourth tag field that SQL's advisory functions never set
 * (they use 1 for a bigint key and 2 for two integers).  They show in
 * pg_locks as locktype 'advisory' with objsubid GEMINI_LOCK_SPACE.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lock.h"

#include "store/store.h"

static void
make_tag(LOCKTAG *tag, uint32 lock_class, uint32 key)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, lock_class, key, GEMINI_LOCK_SPACE);
}

bool
store_try_private_lock(uint32 lock_class, uint32 key, bool session)
{
	LOCKTAG		tag;

	make_tag(&tag, lock_class, key);
	return LockAcquire(&tag, ExclusiveLock, session, true) != LOCKACQUIRE_NOT_AVAIL;
}

void
store_release_private_lock(uint32 lock_class, uint32 key, bool session)
{
	LOCKTAG		tag;

	make_tag(&tag, lock_class, key);
	(void) LockRelease(&tag, ExclusiveLock, session);
}

void
store_private_lock(uint32 lock_class, uint32 key, bool session)
{
	LOCKTAG		tag;

	make_tag(&tag, lock_class, key);
	(void) LockAcquire(&tag, ExclusiveLock, session, false);
}

bool
store_private_lock_mode(uint32 lock_class, uint32 key, LOCKMODE mode, bool wait)
{
	LOCKTAG		tag;

	make_tag(&tag, lock_class, key);
	return LockAcquire(&tag, mode, false, !wait) != LOCKACQUIRE_NOT_AVAIL;
}

void
store_private_unlock_mode(uint32 lock_class, uint32 key, LOCKMODE mode)
{
	LOCKTAG		tag;

	make_tag(&tag, lock_class, key);
	(void) LockRelease(&tag, mode, false);
}
