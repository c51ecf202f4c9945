"""Modules: ``from lexigram.di.module import Module, module``."""

from lexigram.di._module import DynamicModule, Module, module

__all__ = ["DynamicModule", "Module", "module"]
