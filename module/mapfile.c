// SPDX-License-Identifier: GPL-2.0
/*
 * The module's mapping files: a small pseudo filesystem gives every area,
 * view and context anchor its own inode, so that each has an
 * address_space of its own to zap; and the rules every mapping of such a
 * file follows (whole, shared, at its one address, in its one mm, never
 * copied by fork, never grown, split or moved).
 */
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/mm.h>

#include "orbit_internal.h"

#define ORBIT_FS_MAGIC		0x0b17f5a1

static struct vfsmount *orbit_mnt;

static int orbit_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, ORBIT_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type orbit_fs_type = {
	.name			= "orbitfs",
	.init_fs_context	= orbit_fs_init_fs_context,
	.kill_sb		= kill_anon_super,
};

/* A file with its own inode, private_data priv. */
struct file *orbit_file_new(const char *name,
			    const struct file_operations *fops, void *priv)
{
	struct inode *inode;
	struct file *file;

	/* The file's fops reference, dropped by fput (as anon_inodes does). */
	if (!try_module_get(fops->owner))
		return ERR_PTR(-ENOENT);
	inode = alloc_anon_inode(orbit_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		module_put(fops->owner);
		return ERR_CAST(inode);
	}
	file = alloc_file_pseudo(inode, orbit_mnt, name, O_RDWR, fops);
	if (IS_ERR(file)) {
		iput(inode);
		module_put(fops->owner);
		return file;
	}
	file->private_data = priv;
	return file;
}

/*
 * The range must hold nothing but holes and reservations: inaccessible
 * anonymous mappings that never held a page (no anon_vma), such as the
 * library's window.  A mapping made inaccessible after use (a guard page
 * split off a stack, a buffer mprotect'ed to PROT_NONE) holds user data
 * and is never replaced.
 */
static int orbit_range_reserved(struct mm_struct *mm, unsigned long addr,
				unsigned long len)
{
	struct vm_area_struct *vma;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for (vma = find_vma(mm, addr); vma && vma->vm_start < addr + len;
	     vma = find_vma(mm, vma->vm_end)) {
		if (vma->vm_file || vma->anon_vma ||
		    (vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) {
			ret = -EEXIST;
			break;
		}
	}
	mmap_read_unlock(mm);
	return ret;
}

/* Maps file shared into the calling process at addr, over reservations only. */
int orbit_map_file(struct file *file, unsigned long addr, unsigned long len,
		   unsigned long prot)
{
	unsigned long ret;
	int err;

	err = orbit_range_reserved(current->mm, addr, len);
	if (err)
		return err;
	ret = vm_mmap(file, addr, len, prot, MAP_SHARED | MAP_FIXED, 0);
	if (IS_ERR_VALUE(ret))
		return (int)ret;
	return ret == addr ? 0 : -EFAULT;
}

int orbit_vma_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;	/* mapped and unmapped whole */
}

int orbit_vma_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;	/* must stay where it is */
}

/*
 * Fault-around that maps nothing.  Its presence is how a mapping tells
 * the kernel (6.4 and later, vmf_can_call_fault()) that its fault and
 * page_mkwrite handlers need no mmap_lock: without it, every fault taken
 * under the per-VMA lock is retried under mmap_lock, i.e. taken twice.
 * Ours take only their area's or view's mutex, page locks and, through
 * unmap_mapping_pages and vm_insert_pages on VM_MIXEDMAP views, the
 * mapping's i_mmap_rwsem and page-table locks, as a truncate does.  It
 * runs under rcu_read_lock (no sleeping), so it cannot take those
 * mutexes itself; view faults map around in view_map_around instead.
 */
vm_fault_t orbit_map_pages_none(struct vm_fault *vmf, pgoff_t start,
				pgoff_t end)
{
	return 0;
}

/*
 * Every mapping of a module file: whole, shared, at its address (any, for
 * addr 0), in the one mm it belongs to; never copied by fork, never grown.
 */
int orbit_mmap_setup(struct vm_area_struct *vma, struct mm_struct *mm,
		     unsigned long addr, unsigned long size,
		     const struct vm_operations_struct *ops, void *priv)
{
	if (current->mm != mm || vma->vm_mm != mm)
		return -EPERM;
	if (!(vma->vm_flags & VM_SHARED) || vma->vm_pgoff ||
	    (addr && vma->vm_start != addr) ||
	    vma->vm_end - vma->vm_start != size)
		return -EINVAL;
	orbit_vma_set_flags(vma, VM_DONTCOPY | VM_DONTEXPAND);
	vma->vm_ops = ops;
	vma->vm_private_data = priv;
	return 0;
}

/* ---- zapping ranges of PTEs, coalesced into runs ---------------------- */

void zap_flush(struct zap_run *z)
{
	if (z->nr)
		unmap_mapping_pages(z->mapping, z->start, z->nr, false);
	z->nr = 0;
}

void zap_add(struct zap_run *z, unsigned long idx)
{
	if (z->nr && idx == z->start + z->nr) {
		z->nr++;
		return;
	}
	zap_flush(z);
	z->start = idx;
	z->nr = 1;
}

int __init orbit_mapfs_init(void)
{
	orbit_mnt = kern_mount(&orbit_fs_type);
	return PTR_ERR_OR_ZERO(orbit_mnt);
}

void orbit_mapfs_exit(void)
{
	kern_unmount(orbit_mnt);
}
