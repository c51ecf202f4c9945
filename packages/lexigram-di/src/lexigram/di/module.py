"""Modules: ``from lexigram.di.module import Module, module``."""

from lexigram.di._module import DynamicModule, Module, fields_set_in_code, module

__all__ = ["DynamicModule", "Module", "fields_set_in_code", "module"]
